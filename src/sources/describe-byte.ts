/** How an unexpected byte is named in error messages: the character when it is printable ASCII, else its hex value. */
export function describeByte(byte: number): string {
  if (byte > 0x20 && byte < 0x7f) return `'${String.fromCharCode(byte)}'`;
  return `byte 0x${byte.toString(16).toUpperCase().padStart(2, '0')}`;
}
