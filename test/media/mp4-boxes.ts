/**
 * Just enough of ISO BMFF (MP4/MOV boxes) to craft hostile files from a valid clip: parse the box
 * tree, edit or replace boxes, write it back with every size recomputed. The clip must keep its
 * moov after mdat (no faststart), so editing moov moves no sample data.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export interface Box {
  readonly type: string;
  /** Leaf boxes: everything after the 8-byte header. */
  payload?: Buffer;
  /** Container boxes. */
  children?: Box[];
}

const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'edts', 'dinf', 'udta']);

export function parseBoxes(data: Buffer): Box[] {
  const boxes: Box[] = [];
  let at = 0;
  while (at + 8 <= data.length) {
    const size = data.readUInt32BE(at);
    const type = data.toString('latin1', at + 4, at + 8);
    if (size < 8 || at + size > data.length) throw new Error(`unsupported box size at ${at}`);
    const body = data.subarray(at + 8, at + size);
    boxes.push(
      CONTAINERS.has(type) ? { type, children: parseBoxes(body) } : { type, payload: body },
    );
    at += size;
  }
  return boxes;
}

export function serializeBoxes(boxes: readonly Box[]): Buffer {
  return Buffer.concat(
    boxes.map((box) => {
      const body = box.children ? serializeBoxes(box.children) : (box.payload ?? Buffer.alloc(0));
      const header = Buffer.alloc(8);
      header.writeUInt32BE(body.length + 8, 0);
      header.write(box.type, 4, 'latin1');
      return Buffer.concat([header, body]);
    }),
  );
}

/** The first box at a path of types, e.g. ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsz']. */
export function findBox(boxes: readonly Box[], path: readonly string[]): Box {
  const [head, ...rest] = path;
  const box = boxes.find((b) => b.type === head);
  if (!box) throw new Error(`no ${head} box`);
  return rest.length === 0 ? box : findBox(box.children ?? [], rest);
}

/** A full box's payload: version 0, no flags, then 32-bit fields. */
export function fullBox(...fields: number[]): Buffer {
  const payload = Buffer.alloc(4 + fields.length * 4);
  fields.forEach((value, i) => payload.writeUInt32BE(value, 4 + i * 4));
  return payload;
}

/** Reads an MP4, lets `edit` change its box tree, writes the result to `output`. */
export function editMp4(input: string, output: string, edit: (boxes: Box[]) => void): string {
  const boxes = parseBoxes(readFileSync(input));
  const moovLast =
    boxes.findIndex((b) => b.type === 'moov') > boxes.findIndex((b) => b.type === 'mdat');
  if (!moovLast) throw new Error('the clip must have its moov after mdat');
  edit(boxes);
  writeFileSync(output, serializeBoxes(boxes));
  return output;
}

export const tracks = (boxes: readonly Box[]): Box[] =>
  (findBox(boxes, ['moov']).children ?? []).filter((b) => b.type === 'trak');

export const STBL = ['mdia', 'minf', 'stbl'];

/** Replaces (or adds) a child box of a container. */
export function setChild(container: Box, child: Box): void {
  const children = container.children ?? [];
  const at = children.findIndex((b) => b.type === child.type);
  if (at >= 0) children[at] = child;
  else children.push(child);
  container.children = children;
}

export function removeChildren(container: Box, types: readonly string[]): void {
  container.children = (container.children ?? []).filter((b) => !types.includes(b.type));
}
