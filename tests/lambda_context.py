"""The context Lambda passes a handler, with what Powertools and the functions read of it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class LambdaContext:
    function_name: str = "build_aggregates"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = "52fdfc07-2182-154f-163f-5f0f9a621d72"
    # What get_remaining_time_in_millis answers: the time left before the function's timeout.
    remaining_ms: int = 900_000

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:eu-west-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms
