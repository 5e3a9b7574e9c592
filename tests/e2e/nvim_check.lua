-- Driven by tests/e2e/test_neovim.py: open FILE with the README's configuration loaded,
-- wait for diagnostics, ask for completion at LINE:COL, write what came back to OUT.
local file, out = os.getenv("FILE"), os.getenv("OUT")
local line, col = tonumber(os.getenv("LINE")), tonumber(os.getenv("COL"))
local result = { diagnostics = {}, completion = {}, error = nil }

local function finish()
  local fh = io.open(out, "w")
  fh:write(vim.json.encode(result))
  fh:close()
  vim.cmd("qall!")
end

vim.cmd("edit " .. vim.fn.fnameescape(file))
local bufnr = vim.api.nvim_get_current_buf()
result.filetype = vim.bo[bufnr].filetype
if not vim.wait(15000, function() return #vim.diagnostic.get(bufnr) > 0 end, 20) then
  result.error = "no diagnostics within 15 s"
  return finish()
end
for _, d in ipairs(vim.diagnostic.get(bufnr)) do
  table.insert(result.diagnostics, {
    lnum = d.lnum, col = d.col, end_lnum = d.end_lnum, end_col = d.end_col,
    severity = d.severity, message = d.message, source = d.source, code = d.code,
  })
end
local client = vim.lsp.get_clients({ bufnr = bufnr })[1]
result.client = client and client.name or nil
result.encoding = client and client.offset_encoding or nil
vim.api.nvim_win_set_cursor(0, { line + 1, col })
local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
local res = vim.lsp.buf_request_sync(bufnr, "textDocument/completion", params, 10000)
for _, r in pairs(res or {}) do
  if r.err then result.error = vim.inspect(r.err) end
  local items = r.result and (r.result.items or r.result) or {}
  for _, it in ipairs(items) do table.insert(result.completion, it.label) end
end
finish()
