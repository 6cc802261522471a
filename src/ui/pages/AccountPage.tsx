/**
 * The signed-in user's account: their personal API tokens (for scripts and Prometheus) — list, make one (its secret
 * shown once, here, with a copy button), revoke. Admins see only their own here, as everyone does.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { TokenView } from '../../app/users.js';
import { api } from '../api/client.js';
import { useMe } from '../auth.js';
import { ConfirmButton } from '../components/ConfirmButton.js';
import { Problem } from '../components/Problem.js';
import { when } from '../components/states.js';
import '../components/forms.css';

const TOKENS_KEY = ['tokens'] as const;
const DAY = 86_400_000;
const LIFETIMES = [
  { label: 'never', days: 0 },
  { label: 'in 30 days', days: 30 },
  { label: 'in 90 days', days: 90 },
  { label: 'in a year', days: 365 },
];

function tokenState(token: TokenView): string {
  if (token.revokedAt) return `revoked ${when(token.revokedAt)}`;
  if (token.expiresAt && token.expiresAt < new Date().toISOString())
    return `expired ${when(token.expiresAt)}`;
  return 'active';
}

function NewToken({ token, onDone }: { token: string; onDone: () => void }) {
  const [copied, setCopied] = useState<string>('');
  const copy = () =>
    navigator.clipboard.writeText(token).then(
      () => setCopied('Copied.'),
      () => setCopied('The browser refused: select the token and copy it by hand.'),
    );
  return (
    <div className="new-token" role="region" aria-label="Your new token">
      <p role="alert" className="warning">
        Copy this token now: it is shown only once, and medallion keeps only its hash.
      </p>
      <input
        readOnly
        value={token}
        aria-label="New token"
        className="mono"
        onFocus={(e) => e.target.select()}
      />
      <div className="form-actions">
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
        <span role="status">{copied}</span>
        <button type="button" onClick={onDone}>
          I have copied it
        </button>
      </div>
    </div>
  );
}

function MakeToken() {
  const client = useQueryClient();
  const [name, setName] = useState('');
  const [days, setDays] = useState(0);
  const make = useMutation({
    mutationFn: () =>
      api<{ token: string; record: TokenView }>('/api/tokens', {
        method: 'POST',
        body: { name, ...(days > 0 && { expiresAt: new Date(Date.now() + days * DAY).toISOString() }) },
      }),
    onSuccess: () => {
      setName('');
      return client.invalidateQueries({ queryKey: TOKENS_KEY });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    make.mutate();
  };
  if (make.data) return <NewToken token={make.data.token} onDone={() => make.reset()} />;
  return (
    <form className="form-grid" onSubmit={submit} aria-labelledby="make-token">
      <h2 id="make-token">Make a token</h2>
      <label>
        Name
        <input
          value={name}
          onChange={(event) => setName(event.target.value)}
          required
          maxLength={100}
          placeholder="prometheus"
        />
      </label>
      <label>
        Expires
        <select value={days} onChange={(event) => setDays(Number(event.target.value))}>
          {LIFETIMES.map((lifetime) => (
            <option key={lifetime.days} value={lifetime.days}>
              {lifetime.label}
            </option>
          ))}
        </select>
      </label>
      <div className="form-actions">
        <button type="submit" className="primary" disabled={make.isPending}>
          Make token
        </button>
      </div>
      <Problem error={make.error} />
    </form>
  );
}

function TokenRow({ token }: { token: TokenView }) {
  const client = useQueryClient();
  const revoke = useMutation({
    mutationFn: () => api(`/api/tokens/${token.id}`, { method: 'DELETE' }),
    onSuccess: () => client.invalidateQueries({ queryKey: TOKENS_KEY }),
  });
  const state = tokenState(token);
  return (
    <tr>
      <td>{token.name}</td>
      <td>{when(token.createdAt)}</td>
      <td>{when(token.lastUsedAt)}</td>
      <td>{token.expiresAt ? when(token.expiresAt) : 'never'}</td>
      <td>{state}</td>
      <td>
        {state === 'active' && (
          <ConfirmButton
            label="Revoke"
            question={`Revoke token ${token.name}?`}
            onConfirm={() => revoke.mutate()}
            disabled={revoke.isPending}
          />
        )}
        <Problem error={revoke.error} />
      </td>
    </tr>
  );
}

export function AccountPage() {
  const { data: me } = useMe();
  const tokens = useQuery({
    queryKey: TOKENS_KEY,
    queryFn: () => api<{ tokens: TokenView[] }>('/api/tokens'),
  });
  // An admin's list holds everyone's tokens: this page is about one's own.
  const mine = tokens.data?.tokens.filter((token) => token.userName === me?.name) ?? [];
  return (
    <section className="admin">
      <h1>Your account</h1>
      <p>
        Signed in as <strong>{me?.name}</strong>, {me?.role}.
      </p>
      <h2>API tokens</h2>
      <p className="muted">
        For scripts and Prometheus: send <code>Authorization: Bearer TOKEN</code>. A token acts with your
        role.
      </p>
      {tokens.isPending && <p className="loading">Loading tokens…</p>}
      <Problem error={tokens.error} />
      {tokens.data &&
        (mine.length === 0 ? (
          <p className="empty">No token yet.</p>
        ) : (
          <table className="list">
            <thead>
              <tr>
                <th>Name</th>
                <th>Made</th>
                <th>Last used</th>
                <th>Expires</th>
                <th>State</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {mine.map((token) => (
                <TokenRow key={token.id} token={token} />
              ))}
            </tbody>
          </table>
        ))}
      <MakeToken />
    </section>
  );
}
