import fc from 'fast-check';

// Property tests run from a fixed seed so CI is repeatable; set FC_SEED to explore other inputs locally.
fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261126) });
