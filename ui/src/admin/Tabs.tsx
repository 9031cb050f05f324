import { useRef, type KeyboardEvent, type ReactNode } from "react";

/** One tab of the admin window. */
export interface TabSpec {
  id: string;
  label: string;
  render: () => ReactNode;
}

/**
 * An ARIA tab bar (arrow keys, Home, End move between tabs) with its panels. Panels visited
 * once stay mounted (hidden) so edits survive switching tabs.
 */
export function Tabs({
  tabs,
  selected,
  visited,
  onSelect,
}: {
  tabs: TabSpec[];
  selected: string;
  visited: ReadonlySet<string>;
  onSelect: (id: string) => void;
}) {
  const buttons = useRef(new Map<string, HTMLButtonElement>());
  const move = (event: KeyboardEvent, index: number) => {
    const targets: Record<string, number> = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 };
    const target = targets[event.key];
    if (target === undefined) return;
    event.preventDefault();
    const tab = tabs[(target + tabs.length) % tabs.length];
    if (tab) {
      onSelect(tab.id);
      buttons.current.get(tab.id)?.focus();
    }
  };
  return (
    <>
      <div className="tab-bar" role="tablist" aria-label="Administration">
        {tabs.map((tab, index) => (
          <button
            key={tab.id}
            ref={(element) => {
              if (element) buttons.current.set(tab.id, element);
              else buttons.current.delete(tab.id);
            }}
            type="button"
            role="tab"
            id={`tab-${tab.id}`}
            data-testid={`tab-${tab.id}`}
            aria-selected={tab.id === selected}
            aria-controls={`panel-${tab.id}`}
            tabIndex={tab.id === selected ? 0 : -1}
            onClick={() => {
              onSelect(tab.id);
            }}
            onKeyDown={(event) => {
              move(event, index);
            }}
          >
            {tab.label}
          </button>
        ))}
      </div>
      {tabs
        .filter((tab) => tab.id === selected || visited.has(tab.id))
        .map((tab) => (
          <section
            key={tab.id}
            role="tabpanel"
            id={`panel-${tab.id}`}
            aria-labelledby={`tab-${tab.id}`}
            className="tab-panel"
            hidden={tab.id !== selected}
          >
            {tab.render()}
          </section>
        ))}
    </>
  );
}
