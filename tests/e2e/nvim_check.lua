-- Driven by tests/e2e/test_neovim.py, with the README's configuration loaded (init.lua).
-- SCENARIO says what to do with FILE; what happened goes to OUT as JSON.
--   diagnostics: wait for diagnostics, ask for completion at LINE:COL
--   commands:    run the lens on the first header (codelens.run), then `:SnowAuth fetchToken`
--                on the second; then, as a control, the deprecated vim.lsp.buf.execute_command
--   typing:      type a connection into the empty FILE as a person does, with
--                vim.lsp.completion (KEYS: the steps, as JSON), then `:SnowAuth fetchToken`
--   token_env:   the README's `:SnowAuthEnv` (its second snippet, appended to init.lua)
--   navigation:  go to definition from `default` (LINE:COL), then rename (NEW_NAME)
local scenario = os.getenv("SCENARIO") or "diagnostics"
local file, out = os.getenv("FILE"), os.getenv("OUT")
local result = { error = nil, notes = {}, deprecated = {}, selects = {}, log = {} }
local finished = false

local function finish()
  if finished then
    return
  end
  finished = true
  local ok, messages = pcall(vim.api.nvim_exec2, "messages", { output = true })
  result.messages = ok and messages.output or nil
  local fh = assert(io.open(out, "w"))
  fh:write(vim.json.encode(result))
  fh:close()
  vim.cmd("qall!")
end

-- What a person would see: notifications, deprecation warnings, "which lens?" questions.
vim.notify = function(msg)
  table.insert(result.notes, tostring(msg))
end
local deprecate = vim.deprecate
vim.deprecate = function(name, ...)
  table.insert(result.deprecated, name)
  return deprecate(name, ...)
end
vim.ui.select = function(items, opts, on_choice)
  local titles = {}
  for _, item in ipairs(items) do
    table.insert(titles, opts and opts.format_item and opts.format_item(item) or tostring(item))
  end
  table.insert(result.selects, titles)
  on_choice(nil)
end

-- The steps run in a coroutine: waiting yields to Neovim's main loop, where typed keys,
-- the server's replies and its edits are processed, as for a person at the keyboard.
local co
local function resume()
  local ok, err = coroutine.resume(co)
  if not ok then
    result.error = tostring(err) .. "\n" .. debug.traceback(co)
    finish()
  elseif coroutine.status(co) == "dead" then
    finish()
  end
end

local function sleep(ms)
  vim.defer_fn(resume, ms)
  coroutine.yield()
end

-- cond()'s first true value within `timeout` ms, else nil and the last error
local function poll(cond, timeout)
  local deadline = vim.uv.hrtime() + timeout * 1e6
  while true do
    local ok, value = pcall(cond)
    if ok and value then
      return value
    end
    if vim.uv.hrtime() > deadline then
      return nil, (not ok) and tostring(value) or nil
    end
    sleep(20)
  end
end

local function wait_for(what, cond, timeout)
  local value, err = poll(cond, timeout or 15000)
  if not value then
    error("timed out waiting for " .. what .. (err and (": " .. err) or ""), 2)
  end
  return value
end

local function buffer_text(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n")
end

local function open()
  vim.cmd("edit " .. vim.fn.fnameescape(file))
  local bufnr = vim.api.nvim_get_current_buf()
  result.filetype = vim.bo[bufnr].filetype
  local client = wait_for("the snowauth client", function()
    local c = vim.lsp.get_clients({ bufnr = bufnr, name = "snowauth" })[1]
    return c and c.initialized and c
  end)
  result.client = client.name
  result.encoding = client.offset_encoding
  return bufnr, client
end

local function lens_titles(bufnr)
  local titles = {}
  for _, lens in ipairs(vim.lsp.codelens.get(bufnr)) do
    if lens.command then
      table.insert(titles, { line = lens.range.start.line, title = lens.command.title })
    end
  end
  return titles
end

local scenarios = {}

function scenarios.diagnostics()
  local line, col = tonumber(os.getenv("LINE")), tonumber(os.getenv("COL"))
  local bufnr, client = open()
  wait_for("diagnostics", function()
    return #vim.diagnostic.get(bufnr) > 0
  end)
  result.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    table.insert(result.diagnostics, {
      lnum = d.lnum, col = d.col, end_lnum = d.end_lnum, end_col = d.end_col,
      severity = d.severity, message = d.message, source = d.source, code = d.code,
    })
  end
  vim.api.nvim_win_set_cursor(0, { line + 1, col })
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  local res = vim.lsp.buf_request_sync(bufnr, "textDocument/completion", params, 10000)
  result.completion = {}
  for _, r in pairs(res or {}) do
    if r.err then
      error(vim.inspect(r.err))
    end
    local items = r.result and (r.result.items or r.result) or {}
    for _, it in ipairs(items) do
      table.insert(result.completion, it.label)
    end
  end
end

function scenarios.commands()
  local bufnr = open()
  -- the README's LspAttach callback asks for the lenses
  wait_for("code lenses", function()
    return #lens_titles(bufnr) >= 2
  end)
  result.lenses_before = lens_titles(bufnr)
  -- on the first header, which has no token: one lens, run without a question
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  vim.lsp.codelens.run()
  wait_for("the token of `dev` in the buffer", function()
    return buffer_text(bufnr):find("[connections.dev.token]", 1, true)
  end, 30000)
  -- the README's command, on the second connection (the cursor inside it)
  local other
  for i, l in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
    if l == "[connections.other]" then
      other = i + 1
    end
  end
  vim.api.nvim_win_set_cursor(0, { other, 0 })
  vim.cmd("SnowAuth fetchToken")
  wait_for("the token of `other` in the buffer", function()
    return buffer_text(bufnr):find("[connections.other.token]", 1, true)
  end, 30000)
  result.modified = vim.bo[bufnr].modified
  result.text = buffer_text(bufnr)
  wait_for("lenses with the token's state", function()
    for _, lens in ipairs(lens_titles(bufnr)) do
      if lens.title:find("^Refresh %(") then
        return true
      end
    end
  end)
  result.lenses_after = lens_titles(bufnr)
  result.deprecated_before_control = vim.deepcopy(result.deprecated)
  -- control: the deprecated call is noticed by this script (so the check above can fail)
  vim.lsp.buf.execute_command({
    command = "snowauth.testConnection",
    arguments = { { uri = vim.uri_from_bufnr(bufnr), connection = "dev" } },
  })
  sleep(200)
end

-- typing ---------------------------------------------------------------------------------

local function typed(keys)
  table.insert(result.log, "type " .. keys)
  vim.api.nvim_input(keys)
  sleep(30)
end

local function menu()
  local info = vim.fn.complete_info({ "items", "selected", "pum_visible" })
  if info.pum_visible ~= 1 or #info.items == 0 then
    return nil
  end
  return info
end

-- Open the completion menu (it may have opened by itself on a trigger character) and
-- accept the item whose label satisfies `want`, moving to it with <C-n> as a person does.
local function complete(what, want)
  local info
  for _ = 1, 5 do -- it may have opened by itself; else ask, as <C-x><C-o> would
    info = poll(menu, 1500)
    if info then
      break
    end
    vim.lsp.completion.get()
  end
  if not info then
    error("no completion menu for " .. what .. " at " .. vim.inspect(vim.api.nvim_get_current_line()))
  end
  local labels = {}
  local index
  for i, item in ipairs(info.items) do
    local label = item.abbr ~= "" and item.abbr or item.word
    table.insert(labels, label)
    if index == nil and want(label, i) then
      index = i - 1
    end
  end
  table.insert(result.menus, { what = what, labels = labels })
  if index == nil then
    error("no completion item for " .. what .. " in " .. vim.inspect(labels))
  end
  local keys = string.rep("<C-n>", index - info.selected)
  typed(keys .. "<C-y>")
  wait_for("the item to be applied (" .. what .. ")", function()
    return menu() == nil
  end)
  sleep(100) -- the snippet is expanded after CompleteDone
end

function scenarios.typing()
  local steps = vim.json.decode(os.getenv("KEYS"))
  result.menus = {}
  local bufnr = open()
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  typed("i")
  for _, step in ipairs(steps) do
    if step.type then
      typed(step.type)
    elseif step.complete then
      local label, first = step.complete, step.first
      complete(label, function(l, i)
        return (l == label or l:find(label, 1, true) == 1) and (not first or i == 1)
      end)
      if first then
        local m = result.menus[#result.menus]
        if m.labels[1]:find(label, 1, true) ~= 1 then
          error("the first item is " .. m.labels[1] .. ", not " .. label)
        end
      end
    elseif step.snippet_done then
      -- leave the snippet: <Tab> to its end (the session stops at $0)
      local n = 0
      while vim.snippet.active() and n < 10 do
        typed("<Tab>")
        n = n + 1
      end
    end
  end
  typed("<Esc>")
  wait_for("normal mode", function()
    return vim.api.nvim_get_mode().mode == "n"
  end)
  result.typed_text = buffer_text(bufnr)
  sleep(500) -- the last diagnostics
  result.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    table.insert(result.diagnostics, { code = d.code, severity = d.severity, message = d.message })
  end
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  vim.cmd("SnowAuth fetchToken")
  -- not fatal here: the test reads the typed text first, then whether the fetch wrote
  poll(function()
    return buffer_text(bufnr):find(".token]", 1, true)
  end, 30000)
  result.text = buffer_text(bufnr)
end

-- the README's SnowAuthEnv command (loaded after the configuration): the token reaches
-- new jobs; what is recorded is whether it did, never the token
function scenarios.token_env()
  open()
  vim.cmd("SnowAuthEnv")
  wait_for("the token in Neovim's environment", function()
    return vim.env.SNOWAUTH_ACCESS_TOKEN ~= nil and vim.env.SNOWAUTH_ACCESS_TOKEN ~= ""
  end, 30000)
  result.instance = vim.env.SNOWAUTH_INSTANCE_URL
  result.token_length = #vim.env.SNOWAUTH_ACCESS_TOKEN
  result.job_sees = vim.trim(vim.fn.system({ "sh", "-c", 'test -n "$SNOWAUTH_ACCESS_TOKEN" && echo set' }))
end

-- go to definition from `default` (the cursor at LINE:COL, 1-based line), then rename the
-- connection (the cursor on the header's name) to NEW_NAME with vim.lsp.buf.rename
-- (prepareRename first)
function scenarios.navigation()
  local bufnr = open()
  vim.api.nvim_win_set_cursor(0, { tonumber(os.getenv("LINE")), tonumber(os.getenv("COL")) })
  local before = vim.api.nvim_win_get_cursor(0)
  vim.lsp.buf.definition()
  result.definition = wait_for("the jump to the definition", function()
    local now = vim.api.nvim_win_get_cursor(0)
    return (now[1] ~= before[1] or now[2] ~= before[2]) and now
  end)
  local header = vim.api.nvim_get_current_line()
  vim.api.nvim_win_set_cursor(0, { result.definition[1], #header - 2 }) -- on the name
  vim.lsp.buf.rename(os.getenv("NEW_NAME"))
  wait_for("the renamed connection", function()
    return buffer_text(bufnr):find(os.getenv("NEW_NAME"), 1, true)
  end)
  sleep(200)
  result.text = buffer_text(bufnr)
end

co = coroutine.create(function()
  local run = scenarios[scenario]
  if not run then
    error("unknown scenario " .. scenario)
  end
  run()
end)
resume()
