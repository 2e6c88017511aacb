// The "Import data" preview: the next import date for a rule, as the service computes it (domain/import_day.py):
// last work day (not Saturday, Sunday or an Estonian public holiday), last calendar day, or day N (1-28) of the
// following month. All dates are Europe/Tallinn calendar dates. The service's own `nextImport` is shown once saved.

function easterSunday(year) {
  // Anonymous Gregorian algorithm (Meeus/Jones/Butcher).
  const a = year % 19, b = Math.floor(year / 100), c = year % 100, d = Math.floor(b / 4), e = b % 4;
  const f = Math.floor((b + 8) / 25), g = Math.floor((b - f + 1) / 3), hh = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4), k = c % 4, l = (32 + 2 * e + 2 * i - hh - k) % 7, m = Math.floor((a + 11 * hh + 22 * l) / 451);
  const month = Math.floor((hh + l - 7 * m + 114) / 31), day = ((hh + l - 7 * m + 114) % 31) + 1;
  return new Date(Date.UTC(year, month - 1, day));
}

const iso = (date) => date.toISOString().slice(0, 10);
const addDays = (date, n) => new Date(date.getTime() + n * 86400000);

export function estonianHolidays(year) {
  const easter = easterSunday(year);
  const fixed = ["01-01", "02-24", "05-01", "06-23", "06-24", "08-20", "12-24", "12-25", "12-26"];
  return new Set([
    ...fixed.map((md) => `${year}-${md}`),
    iso(addDays(easter, -2)), // Good Friday
    iso(easter),
    iso(addDays(easter, 49)), // Whit Sunday
  ]);
}

function isWorkDay(date) {
  const day = date.getUTCDay();
  return day !== 0 && day !== 6 && !estonianHolidays(date.getUTCFullYear()).has(iso(date));
}

/** The import date of a month ("YYYY-MM") under a rule `{rule, day}`, as "YYYY-MM-DD". */
export function importDateFor(month, importDay) {
  const [y, m] = month.split("-").map(Number);
  const last = new Date(Date.UTC(y, m, 0));
  if (importDay.rule === "LAST_CALENDAR_DAY") return iso(last);
  if (importDay.rule === "DAY_OF_FOLLOWING_MONTH") return iso(new Date(Date.UTC(y, m, Number(importDay.day))));
  let date = last;
  while (!isWorkDay(date)) date = addDays(date, -1);
  return iso(date);
}

export function tallinnToday(now = new Date()) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Tallinn" }).format(now); // YYYY-MM-DD
}

function shiftMonth(month, by) {
  const [y, m] = month.split("-").map(Number);
  const date = new Date(Date.UTC(y, m - 1 + by, 1));
  return iso(date).slice(0, 7);
}

/** `{month, date}` of the next import on or after today, or null when the rule is incomplete. */
export function nextImport(importDay, today = tallinnToday()) {
  if (importDay.rule === "DAY_OF_FOLLOWING_MONTH") {
    const day = Number(importDay.day);
    if (!Number.isInteger(day) || day < 1 || day > 28) return null;
  }
  let month = shiftMonth(today.slice(0, 7), -1);
  for (let i = 0; i < 3; i += 1, month = shiftMonth(month, 1)) {
    const date = importDateFor(month, importDay);
    if (date >= today) return { month, date };
  }
  return null;
}
