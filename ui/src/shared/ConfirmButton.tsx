import { useEffect, useRef, useState } from "react";

/**
 * A button whose action needs a second, explicit step: the first press asks `question` in
 * place, with the confirming button focused; Cancel or Escape goes back (focus returns to the
 * button). Test ids: `<testId>`, `<testId>-confirm`, `<testId>-cancel`.
 */
export function ConfirmButton({
  label,
  question,
  confirmLabel,
  onConfirm,
  disabled = false,
  testId,
  className,
}: {
  label: string;
  question: string;
  confirmLabel: string;
  onConfirm: () => void;
  disabled?: boolean;
  testId: string;
  /** The first button's class (the confirming one is always `danger`). */
  className?: string;
}) {
  const [asking, setAsking] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const restoreFocus = useRef(false);

  useEffect(() => {
    if (!asking && restoreFocus.current) {
      restoreFocus.current = false;
      button.current?.focus();
    }
  }, [asking]);

  if (!asking) {
    return (
      <button
        ref={button}
        type="button"
        className={className}
        data-testid={testId}
        disabled={disabled}
        onClick={() => {
          setAsking(true);
        }}
      >
        {label}
      </button>
    );
  }
  const cancel = () => {
    restoreFocus.current = true;
    setAsking(false);
  };
  return (
    <span
      className="confirm-step"
      role="group"
      aria-label={question}
      onKeyDown={(event) => {
        if (event.key === "Escape") {
          event.stopPropagation();
          cancel();
        }
      }}
    >
      <span className="confirm-question">{question}</span>
      <button
        type="button"
        className="danger"
        data-testid={`${testId}-confirm`}
        disabled={disabled}
        autoFocus
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {confirmLabel}
      </button>
      <button type="button" data-testid={`${testId}-cancel`} onClick={cancel}>
        Cancel
      </button>
    </span>
  );
}
