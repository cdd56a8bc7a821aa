/**
 * Readable SailPoint ids for tests: contracts accept SailPoint ids only (32 hex characters), so a
 * test names an identity or item by a short label and gets a stable id that still shows the label:
 * `spId('id1')` is the label's bytes in hex, left-padded with zeros (labels up to 16 characters).
 */
export function spId(label: string): string {
  const hex = Buffer.from(label, 'utf8').toString('hex');
  if (hex.length > 32) throw new Error(`spId: label "${label}" is longer than 16 bytes`);
  return hex.padStart(32, '0');
}
