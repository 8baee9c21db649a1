import type { Activity } from "../lib/queries/overview.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface Bar {
  start: number;
  count: number;
}

type Unit = "hour" | "day" | "week";

/** Consecutive bars (empty periods included); days become weeks (from Monday) beyond 120 days. */
function bars(activity: Activity): { bars: Bar[]; unit: Unit } {
  const parse = (at: string) => Date.parse(activity.unit === "hour" ? `${at}:00:00Z` : `${at}T00:00:00Z`);
  const times = activity.points.map((p) => parse(p.at));
  const first = times[0];
  const last = times[times.length - 1];
  if (first === undefined || last === undefined) return { bars: [], unit: activity.unit };
  const unit: Unit = activity.unit === "day" && last - first > 120 * DAY ? "week" : activity.unit;
  const step = unit === "hour" ? HOUR : unit === "day" ? DAY : 7 * DAY;
  const start = unit === "week" ? first - ((new Date(first).getUTCDay() + 6) % 7) * DAY : first;
  const counts = new Map<number, number>();
  activity.points.forEach((p, i) => {
    const index = Math.floor(((times[i] as number) - start) / step);
    counts.set(index, (counts.get(index) ?? 0) + p.count);
  });
  const total = Math.floor((last - start) / step) + 1;
  const out: Bar[] = [];
  for (let i = 0; i < total; i++) out.push({ start: start + i * step, count: counts.get(i) ?? 0 });
  return { bars: out, unit };
}

function label(t: number, unit: Unit): string {
  const iso = new Date(t).toISOString();
  return unit === "hour" ? `${iso.slice(0, 10)} ${iso.slice(11, 13)}:00` : iso.slice(0, 10);
}

/** Messages over time as an inline SVG bar chart (no chart library, nothing fetched). */
export function ActivityChart({ activity, title }: { activity: Activity; title: string }) {
  const { bars: list, unit } = bars(activity);
  if (list.length === 0) return <p class="empty">No activity.</p>;
  const max = Math.max(...list.map((b) => b.count));
  return (
    <figure class="chart">
      <figcaption>
        {title} <span class="muted">{`(per ${unit}, peak ${max})`}</span>
      </figcaption>
      <svg viewBox={`0 0 ${list.length} 100`} preserveAspectRatio="none" role="img" aria-label={title}>
        {list.map((b, i) => {
          const h = max === 0 ? 0 : (b.count / max) * 100;
          return (
            <rect key={b.start} x={i + 0.1} y={100 - h} width={0.8} height={h}>
              <title>{`${label(b.start, unit)}: ${b.count}`}</title>
            </rect>
          );
        })}
      </svg>
      <div class="axis">
        <span>{label((list[0] as Bar).start, unit)}</span>
        <span>{label((list[list.length - 1] as Bar).start, unit)}</span>
      </div>
    </figure>
  );
}
