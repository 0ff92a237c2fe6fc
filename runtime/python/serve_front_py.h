// The Python face of matx-serve's native front (serve_front.h), used by
// matx_nb/serve/front.py. Included by native.cc.
#pragma once
#include <pybind11/pybind11.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "serve_front.h"

namespace serve_front_py {

namespace py = pybind11;
using serve_front::Front;

struct ReleaseGilDelete {  // the destructor joins the front's threads
  void operator()(Front* f) const {
    py::gil_scoped_release nogil;
    delete f;
  }
};

inline py::tuple hist(const serve_front::Hist& h) {
  py::list counts;
  for (uint64_t c : h.counts) counts.append(py::int_(c));
  return py::make_tuple(counts, h.sum);
}

inline serve_front::Hist new_hist(py::list bounds) {
  serve_front::Hist h;
  for (auto b : bounds) h.bounds.push_back(b.cast<double>());
  h.counts.assign(h.bounds.size() + 1, 0);
  return h;
}

inline void bind(py::module_& m) {
  py::class_<Front, std::unique_ptr<Front, ReleaseGilDelete>>(m, "ServeFront")
      .def(py::init([](int fd, double keep_alive) {
             return std::unique_ptr<Front, ReleaseGilDelete>(new Front(fd, keep_alive));
           }), py::arg("fd"), py::arg("keep_alive") = 5.0)
      // sessions: the model's instances (Session objects, kept alive by the front);
      // inputs: (name, takes bytes); outputs: (name, datatype, key: None, int or str).
      .def("add_model",
           [](Front& f, const std::string& name, py::list sessions, py::list inputs, py::list outputs,
              int64_t max_batch, double delay, size_t max_queue, double timeout, py::list latency, py::list batch) {
             auto mdl = std::make_unique<serve_front::Model>();
             mdl->name = name;
             for (auto s : sessions) mdl->sessions.push_back(&s.cast<const matx_nb::Session&>());
             for (auto i : inputs) {
               auto t = i.cast<py::tuple>();
               mdl->inputs.push_back({t[0].cast<std::string>(), t[1].cast<bool>()});
             }
             for (auto o : outputs) {
               auto t = o.cast<py::tuple>();
               serve_v2::OutputSpec spec;
               spec.name = t[0].cast<std::string>();
               spec.datatype = t[1].cast<std::string>();
               if (py::isinstance<py::int_>(t[2])) {
                 spec.key_kind = 2;
                 spec.key_int = t[2].cast<int64_t>();
               } else if (py::isinstance<py::str>(t[2])) {
                 spec.key_kind = 1;
                 spec.key_str = t[2].cast<std::string>();
               }
               mdl->outputs.push_back(spec);
             }
             mdl->max_batch = std::max<int64_t>(1, max_batch);
             mdl->delay = delay;
             mdl->max_queue = std::max<size_t>(1, max_queue);
             mdl->timeout = timeout;
             mdl->stats.latency = new_hist(latency);
             mdl->stats.queue = new_hist(latency);
             mdl->stats.batch = new_hist(batch);
             f.add_model(std::move(mdl));
           },
           py::keep_alive<1, 3>())
      // a GET path answered 200 with this body (ready: 503 while draining)
      .def("add_route", [](Front& f, const std::string& path, const std::string& ctype, py::bytes body,
                           bool ready) { f.add_route(path, ctype, std::string(body), ready); })
      .def("start", &Front::start)
      .def_property_readonly("handover_fd", &Front::handover_fd)
      // [(socket fd, the bytes it sent that were not answered)]: the Python server's now
      .def("take_handovers", [](Front& f) {
        py::list out;
        for (auto& h : f.take_handovers()) out.append(py::make_tuple(h.first, py::bytes(h.second)));
        return out;
      })
      .def("stop_accepting", &Front::stop_accepting)
      .def_property_readonly("busy", &Front::busy)
      .def("close", [](Front& f) {
        py::gil_scoped_release nogil;
        f.close();
      })
      // {model: {"outcomes": {outcome: n}, "latency" / "queue" / "batch": ([counts], sum), "inflight": n}}
      .def("stats", [](Front& f) {
        py::dict out;
        for (serve_front::Model* mdl : f.models()) {
          serve_front::Stats s;
          {
            std::lock_guard<std::mutex> g(mdl->stats_mu);
            s = mdl->stats;
          }
          py::dict outcomes;
          for (auto& kv : s.outcomes) outcomes[py::str(kv.first)] = py::int_(kv.second);
          py::dict d;
          d["outcomes"] = outcomes;
          d["latency"] = hist(s.latency);
          d["queue"] = hist(s.queue);
          d["batch"] = hist(s.batch);
          d["inflight"] = py::int_(s.inflight);
          out[py::str(mdl->name)] = d;
        }
        return out;
      });
}

}  // namespace serve_front_py
