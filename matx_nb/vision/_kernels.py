"""The vision kernels compiled code calls (`K.resize(...)` in matx_nb/vision/ops.py).

They are C++ over OpenCV (runtime/include/matx_nb/mod/vision_impl.h), declared for
the checker in matx_nb/compiler/modules.py under this module's name. This module
only gives the name something to refer to: the ops run compiled, eagerly too.
"""
