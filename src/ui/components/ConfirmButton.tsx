/** A button for what cannot be undone: it asks once more, in place, before it acts. */
import { useState } from 'react';

export function ConfirmButton({
  label,
  question,
  onConfirm,
  disabled = false,
}: {
  /** The button, e.g. "Remove". */
  label: string;
  /** What is asked, e.g. "Remove connection minio?". */
  question: string;
  onConfirm: () => void;
  disabled?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" onClick={() => setAsking(true)} disabled={disabled} aria-label={question}>
        {label}
      </button>
    );
  }
  return (
    <span className="confirm" role="group" aria-label={question}>
      <span>{question}</span>{' '}
      <button
        type="button"
        className="danger"
        autoFocus
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        Yes, {label.toLowerCase()}
      </button>{' '}
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
