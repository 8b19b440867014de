# Warning and sanitizer flags, applied per target (no global flags).
function(clgan_target_warnings target)
  set_target_properties(${target} PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  target_compile_definitions(${target} PRIVATE _POSIX_C_SOURCE=200809L)
  if(CLGAN_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(CLGAN_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()
