// Display formatting, pure.

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** "HH:MM:SS" for today (local time), "YYYY-MM-DD HH:MM" for other days. */
export function formatTime(ms: number, nowMs: number): string {
  const d = new Date(ms);
  const now = new Date(nowMs);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const sameDay = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  if (sameDay) return `${time}:${pad(d.getSeconds())}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}
