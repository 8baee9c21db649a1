/** A row of tab buttons; the caller renders the chosen panel. */
export function Tabs<T extends string>(props: { tabs: [T, string][]; current: T; choose(tab: T): void }) {
  return (
    <div class="tabs" role="tablist">
      {props.tabs.map(([id, label]) => (
        <button
          key={id}
          type="button"
          role="tab"
          aria-selected={props.current === id}
          class={props.current === id ? "on" : undefined}
          onClick={() => props.choose(id)}
        >
          {label}
        </button>
      ))}
    </div>
  );
}
