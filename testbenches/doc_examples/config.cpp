// Scaffold "config" of the docs' C++ examples (testbenches/doc_examples_test.sh): statements that
// fill a sprint::IpConfig named `cfg` (the example declares it). The example's #include lines go
// at @INCLUDES@ and its statements at @BODY@; the configuration must then pass
// IpConfig::validate(), as SprintIp requires.
#include <cstdio>
#include <string>

#include <systemc>

// @INCLUDES@

int sc_main(int, char*[]) {
    // @BODY@
    const std::string why = cfg.validate();
    if (!why.empty()) {
        std::fprintf(stderr, "the example's configuration is refused: %s\n", why.c_str());
        return 1;
    }
    return 0;
}
