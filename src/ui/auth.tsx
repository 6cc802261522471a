/** Who is signed in, signing in and out. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, rememberCsrf } from './api/client.js';

export interface Me {
  name: string;
  role: 'viewer' | 'operator' | 'admin';
  csrfToken: string | null;
  via: 'session' | 'token';
}

export const ME_KEY = ['me'] as const;

/** The signed-in user; null when nobody is. */
export function useMe() {
  return useQuery({
    queryKey: ME_KEY,
    queryFn: async (): Promise<Me | null> => {
      const me = await api<Me | { signedIn: false }>('/api/auth/me');
      if ('signedIn' in me) return null;
      rememberCsrf(me.csrfToken);
      return me;
    },
    staleTime: 60_000,
  });
}

/** Whether the role may do what `needs` names. */
export function can(me: Me | null | undefined, needs: 'operate' | 'admin'): boolean {
  if (!me) return false;
  return needs === 'admin' ? me.role === 'admin' : me.role !== 'viewer';
}

export function useSignOut() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => api('/api/auth/logout', { method: 'POST', body: {} }),
    onSettled: () => {
      rememberCsrf(null);
      // The user's data goes; the query the app watches for who is signed in stays, now saying nobody.
      client.setQueryData(ME_KEY, null);
      client.removeQueries({ predicate: (query) => query.queryKey[0] !== ME_KEY[0] });
    },
  });
}

export function LoginPage() {
  const client = useQueryClient();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const login = useMutation({
    mutationFn: () => api<Me>('/api/auth/login', { method: 'POST', body: { name, password } }),
    onSuccess: (me) => {
      rememberCsrf(me.csrfToken);
      client.setQueryData(ME_KEY, me);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    login.mutate();
  };
  return (
    <main className="login">
      <form onSubmit={submit} aria-label="Sign in">
        <h1>medallion</h1>
        <label>
          User
          <input
            autoFocus
            autoComplete="username"
            value={name}
            onChange={(e) => setName(e.target.value)}
            required
          />
        </label>
        <label>
          Password
          <input
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        {login.error && (
          <p role="alert" className="error">
            {login.error.message}
          </p>
        )}
        <button type="submit" disabled={login.isPending}>
          Sign in
        </button>
      </form>
    </main>
  );
}
