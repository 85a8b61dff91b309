/** One Server-Sent Event as it came over the wire. */
export interface SseMessage {
  /** The `event:` field; `message` when the block names none. */
  event: string;
  /** The `data:` lines joined with "\n". */
  data: string;
  /** The last `id:` seen on the stream so far, if any. */
  id: string | undefined;
}

export interface SseParser {
  /** Feeds decoded text; chunk boundaries may fall anywhere, even between the CR and LF of a line end. */
  feed(text: string): void;
}

/**
 * An incremental parser of `text/event-stream` (the WHATWG HTML rules): lines end with LF, CR or CRLF; a
 * blank line dispatches the event; `:` starts a comment; a field's value loses one leading space;
 * several `data:` lines join with "\n"; a block without data dispatches nothing. A block the stream ends
 * in the middle of is never dispatched, which is what the standard asks for.
 */
export function createSseParser(onMessage: (message: SseMessage) => void): SseParser {
  const eol = /\r\n|\r|\n/g;
  let buffer = '';
  // A chunk that ended in CR: an LF at the start of the next one belongs to the same line end.
  let skipLf = false;
  let event = '';
  let data: string[] = [];
  let id: string | undefined;

  const dispatch = () => {
    if (data.length > 0) onMessage({ event: event || 'message', data: data.join('\n'), id });
    data = [];
    event = '';
  };

  const line = (l: string) => {
    if (l === '') return dispatch();
    if (l.startsWith(':')) return;
    const colon = l.indexOf(':');
    const field = colon === -1 ? l : l.slice(0, colon);
    let value = colon === -1 ? '' : l.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\0')) id = value;
    // `retry` and unknown fields: nothing to do for a reader that reconnects on its own terms.
  };

  return {
    feed(text) {
      if (text === '') return;
      if (skipLf) {
        skipLf = false;
        if (text.startsWith('\n')) text = text.slice(1);
      }
      // What is left in the buffer holds no line end, so the search starts at the new text.
      eol.lastIndex = buffer.length;
      buffer += text;
      let start = 0;
      for (let m = eol.exec(buffer); m; m = eol.exec(buffer)) {
        const end = eol.lastIndex;
        line(buffer.slice(start, m.index));
        start = end;
        if (m[0] === '\r' && end === buffer.length) skipLf = true;
        eol.lastIndex = end;
      }
      buffer = buffer.slice(start);
    },
  };
}
