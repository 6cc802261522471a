/** The pages and the frame around them; each page keeps its state in the URL (shareable links). */
import { lazy, Suspense, type ComponentType, type LazyExoticComponent } from 'react';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router';
import { can, LoginPage, useMe } from './auth.js';
import { Shell } from './components/Shell.js';
import { PipelinePage } from './pages/PipelinePage.js';
import { PipelinesPage } from './pages/PipelinesPage.js';

const loading = <p className="loading">Loading…</p>;
const ADMINS_ONLY = <p className="empty">Only admins see this page.</p>;

interface LazyPage {
  path: string;
  Page: LazyExoticComponent<ComponentType>;
  adminOnly?: boolean;
}

/**
 * Pages loaded when opened: the charts they draw (ECharts) stay out of the first screen's bundle, and the admin
 * pages are rarely needed. The two pipeline pages are not among them: people land on them most, and a page behind
 * Suspense is shown no sooner than 300 ms after its fallback (React's throttle), which a small page does not repay.
 */
const LAZY_PAGES: LazyPage[] = [
  {
    path: '/runs/:id',
    Page: lazy(() => import('./pages/RunPage.js').then((page) => ({ default: page.RunPage }))),
  },
  { path: '/lake', Page: lazy(() => import('./pages/LakePage.js')) },
  {
    path: '/quality',
    Page: lazy(() => import('./pages/QualityPage.js').then((page) => ({ default: page.QualityPage }))),
  },
  {
    path: '/monitoring',
    Page: lazy(() => import('./pages/MonitoringPage.js').then((page) => ({ default: page.MonitoringPage }))),
  },
  {
    path: '/workers',
    Page: lazy(() => import('./pages/WorkersPage.js').then((page) => ({ default: page.WorkersPage }))),
  },
  {
    path: '/connections',
    Page: lazy(() =>
      import('./pages/ConnectionsPage.js').then((page) => ({ default: page.ConnectionsPage })),
    ),
    adminOnly: true,
  },
  {
    path: '/users',
    Page: lazy(() => import('./pages/UsersPage.js').then((page) => ({ default: page.UsersPage }))),
    adminOnly: true,
  },
  {
    path: '/account',
    Page: lazy(() => import('./pages/AccountPage.js').then((page) => ({ default: page.AccountPage }))),
  },
];

export function App() {
  const me = useMe();
  if (me.isPending) return loading;
  if (!me.data) return <LoginPage />;
  const admin = can(me.data, 'admin');
  return (
    <BrowserRouter>
      <Shell me={me.data}>
        <Routes>
          <Route path="/" element={<Navigate to="/pipelines" replace />} />
          <Route path="/pipelines" element={<PipelinesPage />} />
          <Route path="/pipelines/:name" element={<PipelinePage />} />
          {LAZY_PAGES.map(({ path, Page, adminOnly }) => (
            <Route
              key={path}
              path={path}
              element={
                adminOnly && !admin ? (
                  ADMINS_ONLY
                ) : (
                  <Suspense fallback={loading}>
                    <Page />
                  </Suspense>
                )
              }
            />
          ))}
          <Route path="*" element={<p className="empty">No page here.</p>} />
        </Routes>
      </Shell>
    </BrowserRouter>
  );
}
