// The seed's C++ side: load the exported text2ids pipeline and run it.
//   text2ids out/text2ids
#include <matx_nb/session.h>

#include <iostream>

int main(int argc, char** argv) {
  const char* dir = argc > 1 ? argv[1] : "out/text2ids";
  auto sess = matx_nb::Session::Load(dir, "model.spec.json", -1);
  auto out = sess->Run({{"texts", matx_nb::List{matx_nb::Str("hello"), matx_nb::Str("x")}}});
  std::cout << mx::json::dumps(out) << std::endl;  // [0, 2]
  return 0;
}
