import { useEffect, useState } from "react";

import { firstRunNeeded } from "../api/commands";
import { App } from "./App";
import { FirstRun } from "./firstrun/FirstRun";

type Stage = "starting" | "first-run" | "ready";

/**
 * The main window's root: the first-run screen while no admin account exists, the chat
 * otherwise. If the question cannot be answered the chat opens, and its status bar says why.
 */
export function Root() {
  const [stage, setStage] = useState<Stage>("starting");
  useEffect(() => {
    firstRunNeeded().then(
      (needed) => {
        setStage(needed ? "first-run" : "ready");
      },
      () => {
        setStage("ready");
      },
    );
  }, []);
  if (stage === "starting") {
    return (
      <p className="muted starting" role="status">
        Starting Airlock…
      </p>
    );
  }
  if (stage === "first-run") {
    return (
      <FirstRun
        onDone={() => {
          setStage("ready");
        }}
      />
    );
  }
  return <App />;
}
