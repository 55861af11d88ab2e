class MaxPool1d(Module):
  __parameters__ = []
  __buffers__ = []
  training : bool
  _is_full_backward_hook : NoneType
  ceil_mode : Final[bool] = False
  padding : Final[int] = 0
  dilation : Final[int] = 1
  kernel_size : Final[int] = 3
  return_indices : Final[bool] = False
  stride : Final[int] = 3
  def forward(self: __torch__.torch.nn.modules.pooling.MaxPool1d,
    input: Tensor) -> Tensor:
    _0 = __torch__.torch.nn.functional._max_pool1d
    _1 = _0(input, [3], [3], [0], [1], False, False, )
    return _1
