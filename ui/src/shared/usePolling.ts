import { useCallback, useEffect, useRef, useState } from "react";

import { errorMessage } from "./errors";

/** What a polled command last returned. */
export interface Polled<T> {
  /** The last value read, kept while a later read fails. */
  data: T | null;
  /** The last read's error, cleared by the next success. */
  error: string | null;
  /** Reads again now. */
  refresh: () => void;
}

/**
 * Calls `load` now, then every `intervalMs`, and whenever `refresh` is called. Results that
 * arrive after the component unmounted are dropped.
 */
export function usePolling<T>(load: () => Promise<T>, intervalMs: number): Polled<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const loadRef = useRef(load);
  const alive = useRef(true);

  useEffect(() => {
    loadRef.current = load;
  }, [load]);

  const refresh = useCallback(() => {
    loadRef.current().then(
      (value) => {
        if (alive.current) {
          setData(value);
          setError(null);
        }
      },
      (err: unknown) => {
        if (alive.current) {
          setError(errorMessage(err));
        }
      },
    );
  }, []);

  useEffect(() => {
    alive.current = true;
    refresh();
    const timer = window.setInterval(refresh, intervalMs);
    return () => {
      alive.current = false;
      window.clearInterval(timer);
    };
  }, [refresh, intervalMs]);

  return { data, error, refresh };
}
