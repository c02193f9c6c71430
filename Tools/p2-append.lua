-- P2 with wrk as the load generator: every request appends one MeasureReadingRecorded event (the server makes the
-- id) to one of ten measure streams, as `planledger-bench http-append` does. The token comes from PLANLEDGER_TOKEN.
-- Usage: PLANLEDGER_TOKEN=... wrk -t2 -c64 -d10s --latency -s Tools/p2-append.lua http://127.0.0.1:PORT
local counter = 0
local token = os.getenv("PLANLEDGER_TOKEN")
request = function()
  counter = counter + 1
  local body = '{"streams":[{"stream":"measure/R1-M' .. (counter % 10) .. '","events":[{"type":"MeasureReadingRecorded",'
    .. '"effectiveAt":"2030-01-01","data":{"value":' .. counter .. ',"at":"2030-01-01"}}]}]}'
  return wrk.format("POST", "/v1/transactions",
                    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end
