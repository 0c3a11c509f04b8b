// Precompiled header: the heavy LibTorch include, compiled once and reused by every target.
#pragma once
#include <torch/torch.h>
