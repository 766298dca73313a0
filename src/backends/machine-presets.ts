// The simulated machines' presets: a real machine's published figures, chosen by name (--preset).

/** The preset named, or none when no name is given; an unknown name is a RangeError that lists the known ones. */
export function pickPreset<T>(backend: string, presets: Readonly<Record<string, T>>, name: string | undefined): T | undefined {
  if (name === undefined) return undefined;
  if (Object.hasOwn(presets, name)) return presets[name];
  const known = Object.keys(presets);
  throw new RangeError(known.length > 0
    ? `${backend} has no preset '${name}': use one of ${known.join(', ')}`
    : `${backend} has no presets, so --preset ${name} does not apply`);
}
