/** The frame of every page: navigation, the signed-in user, sign-out, light or dark. */
import { useEffect, useState, type ReactNode } from 'react';
import { NavLink } from 'react-router';
import { can, useSignOut, type Me } from '../auth.js';

type Theme = 'light' | 'dark';

function useTheme(): [Theme, () => void] {
  const [theme, setTheme] = useState<Theme>(() => {
    const saved = localStorage.getItem('medallion.theme');
    if (saved === 'light' || saved === 'dark') return saved;
    return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  });
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('medallion.theme', theme);
  }, [theme]);
  return [theme, () => setTheme((current) => (current === 'dark' ? 'light' : 'dark'))];
}

const PAGES: { to: string; label: string; needs?: 'admin' }[] = [
  { to: '/pipelines', label: 'Pipelines' },
  { to: '/lake', label: 'Lake' },
  { to: '/quality', label: 'Quality' },
  { to: '/monitoring', label: 'Monitoring' },
  { to: '/workers', label: 'Workers' },
  { to: '/connections', label: 'Connections', needs: 'admin' },
  { to: '/users', label: 'Users', needs: 'admin' },
];

export function Shell({ me, children }: { me: Me; children: ReactNode }) {
  const [theme, toggleTheme] = useTheme();
  const signOut = useSignOut();
  return (
    <div className="shell">
      <header>
        <a className="brand" href="/pipelines">
          medallion
        </a>
        <nav aria-label="Pages">
          {PAGES.filter((page) => !page.needs || can(me, page.needs)).map((page) => (
            <NavLink key={page.to} to={page.to}>
              {page.label}
            </NavLink>
          ))}
          <a href="/api/docs">API</a>
        </nav>
        <span className="who">
          <NavLink to="/account" title="Your account and API tokens">
            {me.name}
          </NavLink>{' '}
          <span className="role">{me.role}</span>
        </span>
        <button
          type="button"
          onClick={toggleTheme}
          aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} mode`}
        >
          {theme === 'dark' ? '☀' : '☾'}
        </button>
        <button type="button" onClick={() => signOut.mutate()}>
          Sign out
        </button>
      </header>
      <main>{children}</main>
    </div>
  );
}
