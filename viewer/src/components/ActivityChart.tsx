import type { HourCount } from "../lib/queries/overview.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface Bar {
  start: number;
  count: number;
}

/** Hours grouped into bars: per hour up to 3 days, per day up to 120 days, else per week (from Monday). */
function buckets(hours: HourCount[]): { bars: Bar[]; unit: "hour" | "day" | "week" } {
  if (hours.length === 0) return { bars: [], unit: "day" };
  const time = (h: HourCount) => Date.parse(`${h.hour}:00:00Z`);
  const first = time(hours[0] as HourCount);
  const last = time(hours[hours.length - 1] as HourCount);
  const range = last - first;
  const unit = range <= 3 * DAY ? "hour" : range <= 120 * DAY ? "day" : "week";
  const step = unit === "hour" ? HOUR : unit === "day" ? DAY : 7 * DAY;
  let start = first - (first % (unit === "hour" ? HOUR : DAY));
  if (unit === "week") start -= ((new Date(start).getUTCDay() + 6) % 7) * DAY;
  const counts = new Map<number, number>();
  for (const h of hours) {
    const index = Math.floor((time(h) - start) / step);
    counts.set(index, (counts.get(index) ?? 0) + h.count);
  }
  const total = Math.floor((last - start) / step) + 1;
  const bars: Bar[] = [];
  for (let i = 0; i < total; i++) bars.push({ start: start + i * step, count: counts.get(i) ?? 0 });
  return { bars, unit };
}

function label(t: number, unit: "hour" | "day" | "week"): string {
  const iso = new Date(t).toISOString();
  return unit === "hour" ? `${iso.slice(0, 10)} ${iso.slice(11, 13)}:00` : iso.slice(0, 10);
}

/** Messages over time as an inline SVG bar chart (no chart library, nothing fetched). */
export function ActivityChart({ hours, title }: { hours: HourCount[]; title: string }) {
  const { bars, unit } = buckets(hours);
  if (bars.length === 0) return <p class="empty">No activity.</p>;
  const max = Math.max(...bars.map((b) => b.count));
  return (
    <figure class="chart">
      <figcaption>
        {title} <span class="muted">{`(per ${unit}, peak ${max})`}</span>
      </figcaption>
      <svg viewBox={`0 0 ${bars.length} 100`} preserveAspectRatio="none" role="img" aria-label={title}>
        {bars.map((b, i) => {
          const h = max === 0 ? 0 : (b.count / max) * 100;
          return (
            <rect key={b.start} x={i + 0.1} y={100 - h} width={0.8} height={h}>
              <title>{`${label(b.start, unit)}: ${b.count}`}</title>
            </rect>
          );
        })}
      </svg>
      <div class="axis">
        <span>{label((bars[0] as Bar).start, unit)}</span>
        <span>{label((bars[bars.length - 1] as Bar).start, unit)}</span>
      </div>
    </figure>
  );
}
