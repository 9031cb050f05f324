import { useCallback, useEffect, useRef, useState } from "react";

import { errorMessage } from "./errors";

/** What a command read once (and again on demand) returned. */
export interface Loaded<T> {
  /** The last value read, kept while a later read fails. */
  data: T | null;
  /** The last read's error, cleared by the next success. */
  error: string | null;
  /** Reads again now; resolves when the read is done (whatever its result). */
  refresh: () => Promise<void>;
}

/**
 * Calls `load` when the component mounts and whenever `refresh` is called (after a change the
 * view made). Results that arrive after the component unmounted are dropped, and so is a read
 * overtaken by a later one.
 */
export function useLoaded<T>(load: () => Promise<T>): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const loadRef = useRef(load);
  const alive = useRef(true);
  const generation = useRef(0);

  useEffect(() => {
    loadRef.current = load;
  }, [load]);

  const refresh = useCallback(() => {
    generation.current += 1;
    const mine = generation.current;
    return loadRef.current().then(
      (value) => {
        if (alive.current && mine === generation.current) {
          setData(value);
          setError(null);
        }
      },
      (err: unknown) => {
        if (alive.current && mine === generation.current) {
          setError(errorMessage(err));
        }
      },
    );
  }, []);

  useEffect(() => {
    alive.current = true;
    void refresh();
    return () => {
      alive.current = false;
    };
  }, [refresh]);

  return { data, error, refresh };
}
