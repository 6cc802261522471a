/** The pages and the frame around them; each page keeps its state in the URL (shareable links). */
import { lazy, Suspense } from 'react';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router';
import { LoginPage, useMe } from './auth.js';
import { Shell } from './components/Shell.js';
import { PipelinesPage } from './pages/PipelinesPage.js';

const LakePage = lazy(() => import('./pages/LakePage.js'));

export function App() {
  const me = useMe();
  if (me.isPending) return <p className="loading">Loading…</p>;
  if (!me.data) return <LoginPage />;
  return (
    <BrowserRouter>
      <Shell me={me.data}>
        <Routes>
          <Route path="/" element={<Navigate to="/pipelines" replace />} />
          <Route path="/pipelines" element={<PipelinesPage />} />
          <Route
            path="/lake"
            element={
              <Suspense fallback={<p className="loading">Loading…</p>}>
                <LakePage />
              </Suspense>
            }
          />
          <Route path="*" element={<p className="empty">No page here.</p>} />
        </Routes>
      </Shell>
    </BrowserRouter>
  );
}
