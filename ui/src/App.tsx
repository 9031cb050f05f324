import { ModelStatusCard } from "./ModelStatusCard";

/** The Airlock main window. */
export function App() {
  return (
    <main className="app">
      <header className="app-header">
        <h1 className="app-name">Airlock</h1>
        <p className="app-subtitle">air-gapped operations assistant</p>
      </header>
      <ModelStatusCard />
    </main>
  );
}
