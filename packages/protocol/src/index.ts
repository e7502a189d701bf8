export * from './constants.js';
export * from './errors.js';
export * from './frames.js';
export * from './http.js';
export * from './ids.js';
export * from './mentions.js';
export * from './names.js';
export * from './text.js';
