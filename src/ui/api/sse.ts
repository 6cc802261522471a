import { useEffect } from 'react';

/**
 * Listens to a Server-Sent Events stream of the API while the component is shown (the browser reconnects after a
 * network hiccup; the stream ends by itself when what it follows is over).
 */
export function useEventStream(
  url: string | undefined,
  handlers: Record<string, (data: string) => void>,
): void {
  useEffect(() => {
    if (!url) return undefined;
    const source = new EventSource(url, { withCredentials: true });
    for (const [event, handle] of Object.entries(handlers)) {
      source.addEventListener(event, (message) => handle((message as MessageEvent<string>).data));
    }
    // The server closes a finished stream: do not reopen it.
    source.addEventListener('error', () => {
      if (source.readyState === EventSource.CLOSED) return;
      source.close();
    });
    return () => source.close();
    // Handlers are read at connection time; the URL decides when to reconnect.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [url]);
}
