import type { ComponentChildren } from 'preact';
import { useId, useRef, useState } from 'preact/hooks';
import { messageOf } from '../format.js';

/** What an action did (a status line), or the daemon's refusal in its words (an alert). */
export interface Outcome {
  ok: boolean;
  text: string;
}

/** The outcome's line: kept by the view, so it stays when the button goes (a job landed is no longer landable). */
export function OutcomeLine({ outcome }: { outcome: Outcome | undefined }) {
  if (!outcome) return null;
  return outcome.ok ? <p role="status">{outcome.text}</p> : <p role="alert">{outcome.text}</p>;
}

/**
 * An action the admin confirms first: the button opens a dialog that says what will happen; only
 * its confirm button acts. While the daemon works the button says so (and is busy).
 */
export function ConfirmButton(props: {
  /** The button's text ("Roll back…"), and its name for a screen reader when the text alone would not say which one. */
  label: string;
  accessibleLabel?: string;
  /** Said on the button while the daemon works ("Rolling back…"). */
  busyLabel: string;
  /** The dialog's question, what it will do (children), and its two answers. */
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  cancelLabel: string;
  danger?: boolean;
  /** Another action of the same kind is under way. */
  disabled?: boolean;
  /** Does it; resolves to the outcome as said on the status line. */
  act: () => Promise<string>;
  /** Starts the alert of a refusal ("Not landed"). */
  failedPrefix: string;
  /** Told what happened (cleared with `undefined` as the action starts). */
  onOutcome: (outcome: Outcome | undefined) => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const [busy, setBusy] = useState(false);
  const confirm = () => {
    dialog.current?.close();
    setBusy(true);
    props.onOutcome(undefined);
    props
      .act()
      .then(
        (text) => props.onOutcome({ ok: true, text }),
        (failure: unknown) => props.onOutcome({ ok: false, text: `${props.failedPrefix}: ${messageOf(failure)}` }),
      )
      .finally(() => setBusy(false));
  };
  const buttonClass = props.danger ? 'danger' : undefined;
  return (
    <div class="action">
      <button
        type="button"
        class={buttonClass}
        disabled={busy || props.disabled}
        aria-busy={busy ? 'true' : undefined}
        aria-label={busy ? undefined : props.accessibleLabel}
        onClick={() => dialog.current?.showModal()}
      >
        {busy ? props.busyLabel : props.label}
      </button>
      <dialog ref={dialog} aria-labelledby={titleId}>
        <h3 id={titleId}>{props.title}</h3>
        {props.children}
        <div class="buttons">
          <button type="button" onClick={() => dialog.current?.close()}>
            {props.cancelLabel}
          </button>
          <button type="button" class={buttonClass} onClick={confirm}>
            {props.confirmLabel}
          </button>
        </div>
      </dialog>
    </div>
  );
}
