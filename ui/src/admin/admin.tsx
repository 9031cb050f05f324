import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { applyFontSize, storedFontSize } from "../shared/fontScale";
import { AdminApp } from "./AdminApp";
import "../shared/base.css";
import "../shared/decision/decision.css";
import "../main/request/toolRun.css";
import "../main/request/charts/charts.css";
import "../main/approvals/approvals.css";
import "./admin.css";

const container = document.getElementById("root");
if (!container) {
  throw new Error("admin.html has no #root element");
}
applyFontSize(storedFontSize());

createRoot(container).render(
  <StrictMode>
    <AdminApp />
  </StrictMode>,
);
