#define FD_SIM_TESTS
