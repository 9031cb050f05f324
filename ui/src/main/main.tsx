import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { applyFontSize, storedFontSize } from "../shared/fontScale";
import { Root } from "./Root";
import "../shared/base.css";
import "../shared/decision/decision.css";
import "./request/toolRun.css";
import "./request/charts/charts.css";
import "./approvals/approvals.css";
import "./main.css";
import "./firstrun/firstrun.css";

const container = document.getElementById("root");
if (!container) {
  throw new Error("index.html has no #root element");
}
applyFontSize(storedFontSize());

createRoot(container).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
