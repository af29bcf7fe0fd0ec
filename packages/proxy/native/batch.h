// Batched reads for lean L7 connections (batch.c), registered beside the relay's exports.
#pragma once
#include <node_api.h>
#include <uv.h>

void batch_register(napi_env env, napi_value exports, uv_loop_t *loop);
