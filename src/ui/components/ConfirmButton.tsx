/** A button whose action is asked again in a modal dialog first (Escape or "Back" leaves it undone). */
import { useId, useRef } from 'react';

export function ConfirmButton({
  label,
  question,
  confirm,
  onConfirm,
  disabled = false,
}: {
  /** The button's name. */
  label: string;
  /** What will happen, as the dialog asks it. */
  question: string;
  /** The name of the button that does it; "Yes, <label>" unless given. */
  confirm?: string;
  onConfirm: () => void;
  disabled?: boolean;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const heading = useId();
  return (
    <>
      <button type="button" onClick={() => dialog.current?.showModal()} disabled={disabled}>
        {label}
      </button>
      <dialog ref={dialog} className="confirm" aria-labelledby={heading}>
        {/* method="dialog": either button closes it; only the confirming one acts. */}
        <form method="dialog">
          <p id={heading}>{question}</p>
          <div className="confirm-buttons">
            <button type="submit" autoFocus>
              Back
            </button>
            <button type="submit" className="primary" onClick={onConfirm}>
              {confirm ?? `Yes, ${label.toLowerCase()}`}
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}
