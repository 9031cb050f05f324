import { useEffect, useState } from "react";

import { reviewPolicy } from "../../api/commands";
import type { PolicyReview } from "../../api/types";
import { errorMessage } from "../../shared/errors";

/** How long typing must pause before the engine reviews the text. */
const REVIEW_DELAY_MS = 400;

interface Reviewed {
  file: string;
  text: string;
  review: PolicyReview | null;
  error: string | null;
}

/** The engine's review of an edit, as far as it has caught up with the text. */
export interface ReviewState {
  /** The latest review of this file (possibly of an earlier text while typing). */
  review: PolicyReview | null;
  /** Whether `review` is of exactly the current text. */
  current: boolean;
  /** Why the latest review failed, if it did. */
  error: string | null;
}

/** Reviews `text` as the new content of `file`, `REVIEW_DELAY_MS` after the last change. */
export function usePolicyReview(file: string, text: string): ReviewState {
  const [reviewed, setReviewed] = useState<Reviewed | null>(null);

  useEffect(() => {
    let live = true;
    const timer = window.setTimeout(() => {
      reviewPolicy(file, text).then(
        (review) => {
          if (live) setReviewed({ file, text, review, error: null });
        },
        (error: unknown) => {
          if (live) setReviewed({ file, text, review: null, error: errorMessage(error) });
        },
      );
    }, REVIEW_DELAY_MS);
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [file, text]);

  if (reviewed?.file !== file) {
    return { review: null, current: false, error: null };
  }
  return { review: reviewed.review, current: reviewed.text === text, error: reviewed.error };
}
