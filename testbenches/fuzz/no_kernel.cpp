// The SystemC shared library refers to sc_main, and the parsers' libraries link it; no fuzz target
// starts a kernel (as sprint-sweep, platforms/sweep/main.cpp). Never called: main is libFuzzer's
// or replay_main.cpp's.
extern "C" int sc_main(int, char*[]) {
    return 1;
}
