/** One area of the lake a folder at a time, as MinIO's console shows a bucket: folders, files, sizes, downloads. */
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import type { ObjectArea, ObjectListing } from '../../../app/lake-objects.js';
import { api } from '../../api/client.js';
import { when } from '../../components/states.js';
import { bytes, count } from '../../components/format.js';
import { NotYet } from './format.js';
import { apiPath, useLakeState } from './state.js';

const PAGE = 200;

/** `a/b/` → [['a', 'a/'], ['b', 'a/b/']]. */
function crumbs(prefix: string): [string, string][] {
  const names = prefix.split('/').filter((name) => name !== '');
  return names.map((name, index) => [name, `${names.slice(0, index + 1).join('/')}/`]);
}

export function ObjectBrowser({ area }: { area: ObjectArea }) {
  const { state, link, go } = useLakeState();
  const { lake, prefix, offset } = state;
  const listing = useQuery({
    queryKey: ['lake', 'objects', lake, area, prefix, offset],
    queryFn: () =>
      api<ObjectListing>(
        apiPath('/api/lake/objects', { lake, area, prefix: prefix || undefined, offset, limit: PAGE }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: 10_000,
  });
  return (
    <section aria-label={`Objects of ${area}`}>
      <nav className="crumbs" aria-label="Folder">
        <Link to={link({ prefix: undefined })}>{area}</Link>
        {crumbs(prefix).map(([name, key]) => (
          <span key={key}>
            {' / '}
            <Link to={link({ prefix: key })} aria-current={key === prefix ? 'page' : undefined}>
              {name}
            </Link>
          </span>
        ))}
      </nav>
      {listing.error || !listing.data ? (
        <NotYet query={listing} what="the folder" />
      ) : (
        <Listing listing={listing.data} onPage={(next) => go({ offset: next || undefined })} />
      )}
    </section>
  );
}

function Listing({ listing, onPage }: { listing: ObjectListing; onPage(offset: number): void }) {
  const { state, link } = useLakeState();
  if (listing.total === 0) return <p className="empty">Nothing here.</p>;
  const last = listing.offset + listing.entries.length;
  return (
    <>
      {listing.total > listing.limit && (
        <div className="pager">
          <span>
            {count(listing.offset + 1)}–{count(last)} of {count(listing.total)}
          </span>
          <button type="button" disabled={listing.offset === 0} onClick={() => onPage(listing.offset - PAGE)}>
            Previous
          </button>
          <button type="button" disabled={last >= listing.total} onClick={() => onPage(last)}>
            Next
          </button>
        </div>
      )}
      <table className="list" aria-label="Objects">
        <thead>
          <tr>
            <th>Name</th>
            <th className="number">Size</th>
            <th>Modified (UTC)</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {listing.entries.map((entry) =>
            entry.kind === 'folder' ? (
              <tr key={entry.key}>
                <td>
                  <Link to={link({ prefix: entry.key })}>{entry.name}/</Link>
                </td>
                <td className="number">—</td>
                <td>—</td>
                <td />
              </tr>
            ) : (
              <tr key={entry.key}>
                <td className="mono">{entry.name}</td>
                <td className="number">{bytes(entry.size)}</td>
                <td className="nowrap">{when(entry.lastModified)}</td>
                <td>
                  <a
                    href={apiPath('/api/lake/objects/download', {
                      lake: state.lake,
                      area: listing.area,
                      key: entry.key,
                    })}
                    download
                    aria-label={`Download ${entry.name}`}
                  >
                    Download
                  </a>
                </td>
              </tr>
            ),
          )}
        </tbody>
      </table>
    </>
  );
}
