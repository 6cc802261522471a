/** The pages and the frame around them; each page keeps its state in the URL (shareable links). */
import { lazy, Suspense } from 'react';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router';
import { can, LoginPage, useMe } from './auth.js';
import { Shell } from './components/Shell.js';
import { PipelinesPage } from './pages/PipelinesPage.js';

// Loaded when opened: the charts carry ECharts, and the admin pages are rarely needed.
const QualityPage = lazy(() =>
  import('./pages/QualityPage.js').then((page) => ({ default: page.QualityPage })),
);
const MonitoringPage = lazy(() =>
  import('./pages/MonitoringPage.js').then((page) => ({ default: page.MonitoringPage })),
);
const ConnectionsPage = lazy(() =>
  import('./pages/ConnectionsPage.js').then((page) => ({ default: page.ConnectionsPage })),
);
const UsersPage = lazy(() => import('./pages/UsersPage.js').then((page) => ({ default: page.UsersPage })));
const AccountPage = lazy(() =>
  import('./pages/AccountPage.js').then((page) => ({ default: page.AccountPage })),
);

const ADMINS_ONLY = <p className="empty">Only admins see this page.</p>;

export function App() {
  const me = useMe();
  if (me.isPending) return <p className="loading">Loading…</p>;
  if (!me.data) return <LoginPage />;
  const admin = can(me.data, 'admin');
  return (
    <BrowserRouter>
      <Shell me={me.data}>
        <Suspense fallback={<p className="loading">Loading…</p>}>
          <Routes>
            <Route path="/" element={<Navigate to="/pipelines" replace />} />
            <Route path="/pipelines" element={<PipelinesPage />} />
            <Route path="/quality" element={<QualityPage />} />
            <Route path="/monitoring" element={<MonitoringPage />} />
            <Route path="/connections" element={admin ? <ConnectionsPage /> : ADMINS_ONLY} />
            <Route path="/users" element={admin ? <UsersPage /> : ADMINS_ONLY} />
            <Route path="/account" element={<AccountPage />} />
            <Route path="*" element={<p className="empty">No page here.</p>} />
          </Routes>
        </Suspense>
      </Shell>
    </BrowserRouter>
  );
}
