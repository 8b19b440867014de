/* The matrix product as an op: nn's dense layer and double backward and gan's metrics reach
 * CLBlast through here rather than calling the device layer past ops. A plain forward, so that
 * results, profiling spans and recorded GEMM shapes are exactly those of clgan_gemm. */
#include "clgan/ops.h"

clgan_status clgan_matmul(clgan_device *dev, const clgan_gemm_args *g) {
  return clgan_gemm(dev, g);
}
