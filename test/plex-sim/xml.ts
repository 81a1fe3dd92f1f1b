/**
 * Plex's two wire formats from one element tree (plex-api.md §1.4, trap 7): XML by default,
 * with booleans as 0/1; JSON with `Accept: application/json`, booleans typed, repeated children
 * as arrays under their tag name, the whole wrapped in the root tag.
 */
export type AttributeValue = string | number | boolean | null | undefined;

export interface XmlElement {
  tag: string;
  attributes: Record<string, AttributeValue>;
  children?: XmlElement[];
}

export function element(tag: string, attributes: Record<string, AttributeValue> = {}, children: XmlElement[] = []): XmlElement {
  return { tag, attributes, children };
}

export function toXml(root: XmlElement): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${render(root)}\n`;
}

function render(node: XmlElement): string {
  const attributes = Object.entries(node.attributes)
    .filter(([, value]) => value !== undefined && value !== null)
    .map(([name, value]) => ` ${name}="${escape(typeof value === 'boolean' ? (value ? '1' : '0') : String(value))}"`)
    .join('');
  const children = node.children ?? [];
  // PMS writes containers with an explicit close tag and leaves as self-closing elements.
  if (children.length === 0 && node.tag !== 'MediaContainer' && node.tag !== 'ButlerTasks' && node.tag !== 'Activity') {
    return `<${node.tag}${attributes} />`;
  }
  return `<${node.tag}${attributes}>\n${children.map(render).join('\n')}${children.length > 0 ? '\n' : ''}</${node.tag}>`;
}

export function toJson(root: XmlElement): string {
  return JSON.stringify({ [root.tag]: toObject(root) });
}

/** Items PMS's JSON lists under `Metadata`, whatever their XML element (`<Playlist>`, `<Video>`, `<Track>`). */
const METADATA_TAGS = new Set(['Playlist', 'Video', 'Track', 'Photo']);

function toObject(node: XmlElement): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(node.attributes)) if (value !== undefined && value !== null) out[name] = value;
  for (const child of node.children ?? []) {
    // Context/Response of an Activity are single objects in PMS's JSON; the rest are arrays.
    if (child.tag === 'Context' || child.tag === 'Response') out[child.tag] = toObject(child);
    else ((out[METADATA_TAGS.has(child.tag) ? 'Metadata' : child.tag] ??= []) as unknown[]).push(toObject(child));
  }
  return out;
}

function escape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
