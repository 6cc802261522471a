/** The pages and the frame around them; each page keeps its state in the URL (shareable links). */
import { lazy, Suspense, type ComponentType, type LazyExoticComponent } from 'react';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router';
import { LoginPage, useMe } from './auth.js';
import { Shell } from './components/Shell.js';
import { PipelinesPage } from './pages/PipelinesPage.js';

const loading = <p className="loading">Loading…</p>;

/**
 * Pages loaded when opened: the charts and graphs they draw (ECharts, React Flow) stay out of the first screen's
 * bundle.
 */
const LAZY_PAGES: { path: string; Page: LazyExoticComponent<ComponentType> }[] = [
  {
    path: '/pipelines/:name',
    Page: lazy(() => import('./pages/PipelinePage.js').then((page) => ({ default: page.PipelinePage }))),
  },
  {
    path: '/runs/:id',
    Page: lazy(() => import('./pages/RunPage.js').then((page) => ({ default: page.RunPage }))),
  },
  {
    path: '/lake',
    Page: lazy(() => import('./pages/LakePage.js')),
  },
];

export function App() {
  const me = useMe();
  if (me.isPending) return loading;
  if (!me.data) return <LoginPage />;
  return (
    <BrowserRouter>
      <Shell me={me.data}>
        <Routes>
          <Route path="/" element={<Navigate to="/pipelines" replace />} />
          <Route path="/pipelines" element={<PipelinesPage />} />
          {LAZY_PAGES.map(({ path, Page }) => (
            <Route
              key={path}
              path={path}
              element={
                <Suspense fallback={loading}>
                  <Page />
                </Suspense>
              }
            />
          ))}
          <Route path="*" element={<p className="empty">No page here.</p>} />
        </Routes>
      </Shell>
    </BrowserRouter>
  );
}
