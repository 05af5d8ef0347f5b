// Where the caret and selection go when the text under them is replaced by
// a remote update. Pure: offsets are UTF-16 code units, like a textarea's.

/** One end of a selection, mapped from `before` to `after`. */
export function mapOffset(before: string, after: string, offset: number): number {
  const pos = Math.max(0, Math.min(offset, before.length));
  // The text before the caret is unchanged: keep the same offset.
  if (pos <= after.length && after.slice(0, pos) === before.slice(0, pos)) return pos;
  // The text after the caret is unchanged (the edit was before it): keep the
  // caret in front of that same text.
  const tail = before.length - pos;
  if (tail <= after.length && after.endsWith(before.slice(pos))) {
    return avoidSplitPair(after, after.length - tail);
  }
  // Otherwise: the same offset, clamped to the new length.
  return avoidSplitPair(after, Math.min(pos, after.length));
}

/** Moves an offset that falls between the halves of a surrogate pair to before the pair. */
function avoidSplitPair(text: string, offset: number): number {
  if (offset <= 0 || offset >= text.length) return offset;
  const prev = text.charCodeAt(offset - 1);
  const next = text.charCodeAt(offset);
  const isHigh = prev >= 0xd800 && prev <= 0xdbff;
  const isLow = next >= 0xdc00 && next <= 0xdfff;
  return isHigh && isLow ? offset - 1 : offset;
}

export interface Selection {
  start: number;
  end: number;
}

/** A selection mapped from `before` to `after`; start never passes end. */
export function mapSelection(before: string, after: string, selection: Selection): Selection {
  const start = mapOffset(before, after, selection.start);
  const end = selection.end === selection.start ? start : mapOffset(before, after, selection.end);
  return end < start ? { start, end: start } : { start, end };
}
