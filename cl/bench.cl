__kernel void noop(void) {}
