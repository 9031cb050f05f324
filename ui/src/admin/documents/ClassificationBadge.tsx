import type { Classification } from "../../api/types";

/** The classifications, least sensitive first, with what each means. */
export const CLASSIFICATIONS: { value: Classification; label: string; meaning: string }[] = [
  { value: "public", label: "Public", meaning: "anyone may see it" },
  { value: "internal", label: "Internal", meaning: "people of the plant may see it" },
  { value: "confidential", label: "Confidential", meaning: "people cleared for confidential business data" },
  { value: "restricted", label: "Restricted", meaning: "only a named audience" },
];

/** A colour-coded classification (its meaning on hover). */
export function ClassificationBadge({ classification }: { classification: Classification }) {
  const known = CLASSIFICATIONS.find((c) => c.value === classification);
  return (
    <span className={`pill class-${classification}`} title={known?.meaning}>
      {known?.label ?? classification}
    </span>
  );
}
