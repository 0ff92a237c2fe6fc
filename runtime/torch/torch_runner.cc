// The torch part of the runtime: runs a model on DLPack tensors for the C++
// Session (a pipeline node of kind "torch"): TorchScript (a .pt file), or an
// AOTInductor package (a .pt2 file: torch.export + AOTInductor's compiled code).
// Built only where torch is installed, against the wheel's libtorch, by runtime/torch/CMakeLists.txt
// (matx_nb/pipeline/torch_op.py runs that build into the cache at save time; an
// exported folder bundles the library under ops/torch/).
// A plain C interface, so session.h needs no libtorch header: it dlopens this.
#include <ATen/DLConvertor.h>
#include <torch/cuda.h>
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>
#include <torch/script.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {
char* dup(const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  std::memcpy(p, s.c_str(), s.size() + 1);
  return p;
}
struct Model {
  std::unique_ptr<torch::jit::Module> module;                       // TorchScript
  std::unique_ptr<torch::inductor::AOTIModelPackageLoader> package;  // AOTInductor
  torch::Device device;
};
bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}
void collect(const c10::IValue& v, std::vector<at::Tensor>& out) {
  if (v.isTensor()) {
    out.push_back(v.toTensor());
  } else if (v.isTuple()) {
    for (auto& x : v.toTupleRef().elements()) collect(x, out);
  } else if (v.isList()) {
    for (const c10::IValue& x : v.toListRef()) collect(x, out);
  } else {
    throw std::runtime_error("a torch op must return tensors (or tuples/lists of them)");
  }
}
}  // namespace

// The interface: the only symbols the library exports (it is built with hidden
// visibility, so libtorch's inline code stays private to it).
#pragma GCC visibility push(default)
extern "C" {

// device: -1 CPU, N cuda:N. Returns null and sets *err on failure.
void* mx_torch_load(const char* path, int device, char** err) {
  try {
    if (device >= 0) {
      // Checked here so that the message names the device, not a dispatch key.
      int n = int(torch::cuda::device_count());
      if (n == 0)
        throw std::runtime_error("device " + std::to_string(device) + " (cuda:" + std::to_string(device) +
                                 ") asked for, but this libtorch sees no CUDA device (a CPU-only torch build, "
                                 "or no GPU here); use device -1 for the CPU");
      if (device >= n)
        throw std::runtime_error("device " + std::to_string(device) + " (cuda:" + std::to_string(device) +
                                 ") asked for, but there " + (n == 1 ? "is 1 CUDA device" : "are " +
                                 std::to_string(n) + " CUDA devices"));
    }
    torch::Device dev = device < 0 ? torch::Device(torch::kCPU) : torch::Device(torch::kCUDA, device);
    auto m = std::make_unique<Model>(Model{nullptr, nullptr, dev});
    if (ends_with(path, ".pt2")) {
      m->package = std::make_unique<torch::inductor::AOTIModelPackageLoader>(
          path, "model", false, 1, c10::DeviceIndex(device < 0 ? -1 : device));
    } else {
      torch::jit::Module loaded = torch::jit::load(path, dev);
      loaded.eval();
      // The passes Python's TorchOp runs (conv + batch-norm folding, oneDNN
      // layouts): the folder holds the frozen module, whose optimized graph does
      // not serialize. A module they do not apply to runs as it is.
      try {
        loaded = torch::jit::optimize_for_inference(loaded);
      } catch (const std::exception&) {
        loaded = torch::jit::load(path, dev);  // the passes may have stopped half way
        loaded.eval();
      }
      m->module = std::make_unique<torch::jit::Module>(loaded);
    }
    return m.release();
  } catch (const std::exception& e) {
    *err = dup(e.what());
    return nullptr;
  }
}

// Runs forward on n input tensors (taken over: their deleters are called);
// *outputs is a malloc'd array of *n_out tensors the caller takes over.
int mx_torch_forward(void* model, DLManagedTensor** inputs, int n, DLManagedTensor*** outputs, int* n_out,
                     char** err) {
  try {
    Model* m = static_cast<Model*>(model);
    c10::InferenceMode guard;
    std::vector<at::Tensor> res;
    if (m->package) {
      std::vector<at::Tensor> args;
      for (int i = 0; i < n; ++i) args.push_back(at::fromDLPack(inputs[i]).to(m->device).contiguous());
      res = m->package->run(args);
    } else {
      std::vector<c10::IValue> args;
      for (int i = 0; i < n; ++i) args.emplace_back(at::fromDLPack(inputs[i]).to(m->device));
      collect(m->module->forward(args), res);
    }
    auto** out = static_cast<DLManagedTensor**>(std::malloc(sizeof(DLManagedTensor*) * (res.size() + 1)));
    for (size_t i = 0; i < res.size(); ++i) out[i] = at::toDLPack(res[i].contiguous());
    *outputs = out;
    *n_out = int(res.size());
    return 0;
  } catch (const std::exception& e) {
    *err = dup(e.what());
    return -1;
  }
}

// A host copy of a tensor (taken over) in any device's memory: how a C++
// program reads a torch op's CUDA output without CUDA headers of its own.
// Waits for the device (the copy is synchronous).
int mx_torch_to_cpu(DLManagedTensor* input, DLManagedTensor** output, char** err) {
  try {
    at::Tensor t = at::fromDLPack(input).to(torch::kCPU).contiguous();
    *output = at::toDLPack(t);
    return 0;
  } catch (const std::exception& e) {
    *err = dup(e.what());
    return -1;
  }
}

void mx_torch_free(void* model) { delete static_cast<Model*>(model); }

}  // extern "C"
#pragma GCC visibility pop
