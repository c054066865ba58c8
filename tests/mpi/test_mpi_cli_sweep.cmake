# CTest driver for `mpirun -np 3 dynlib sweep` (-DDYNLIB -DMPIRUN=<mpirun and its options> -DDATA -DWORK).
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
function(run out_var rc_var)
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY ${DATA} OUTPUT_VARIABLE _o ERROR_VARIABLE _e
    RESULT_VARIABLE _rc TIMEOUT 40)
  set(${out_var} "${_o}${_e}" PARENT_SCOPE)
  set(${rc_var} "${_rc}" PARENT_SCOPE)
endfunction()
function(expect text regex what)
  if(NOT text MATCHES "${regex}")
    message(FATAL_ERROR "${what}: output does not match '${regex}':\n${text}")
  endif()
endfunction()
function(expect_same a b what)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${WORK}/${a} ${WORK}/${b} RESULT_VARIABLE _d)
  if(NOT _d EQUAL 0)
    message(FATAL_ERROR "${what}: ${a} and ${b} differ")
  endif()
endfunction()

# 1. a logistic-map bifurcation diagram, a 2-D Lorenz Lyapunov map, and a ball whose terminal root event
#    ends some points (the stopped_by column): 3 ranks write the one-process bytes
set(bif builtin://map/logistic --param r=2.5:4:151 --N 400 --record-last 5 --quiet --threads 1)
set(lmap builtin://ode/lorenz --param rho=10:40:9 --param sigma=8:12:4 --T 3 --dt 0.01 --lyapunov 1 --quiet)
set(ball root_ball.toml --param g=5:15:21 --T 1 --quiet)
foreach(case bif lmap ball)
  run(o rc ${DYNLIB} sweep ${${case}} --out ${WORK}/${case}-1.csv)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${case}, one process: exit ${rc}\n${o}")
  endif()
  run(o rc ${MPIRUN} ${DYNLIB} sweep ${${case}} --block 4 --out ${WORK}/${case}-3.csv)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${case}, 3 ranks: exit ${rc}\n${o}")
  endif()
  expect("${o}" "on 3 processes x [0-9]+ threads" "${case} summary")
  expect_same(${case}-1.csv ${case}-3.csv "${case}: 3 ranks")
endforeach()
# mpirun -np 1: one process, computing every block itself as without mpirun; same bytes
string(REPLACE ";3;" ";1;" MPIRUN_ONE "${MPIRUN}")
run(o rc ${MPIRUN_ONE} ${DYNLIB} sweep ${bif} --block 4 --out ${WORK}/bif-np1.csv)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "bif, mpirun -np 1: exit ${rc}\n${o}")
endif()
expect("${o}" "sweep: 151 points \\(151 x 1\\) on 1 threads in" "mpirun -np 1 summary")
expect_same(bif-1.csv bif-np1.csv "bif: mpirun -np 1")
file(READ ${WORK}/ball-3.csv text)
expect("${text}" "^g,status,t,h,v,events\\.impact,stopped_by\n[^\n]*,DONE,1,[^\n]*,\n.*,EARLY_EXIT,[^\n]*,3,impact\n"
  "the terminal event's name under mpirun")

# 2. points that fail (NaN for a > 0): listed with their parameters, exit 1, no hang
run(o rc ${MPIRUN} ${DYNLIB} sweep blowup.toml --param a=-1:1:9 --T 5 --dt 0.01 --lyapunov 1 --block 2
  --out ${WORK}/fail.csv)
if(rc EQUAL 0 OR rc MATCHES "timeout")
  message(FATAL_ERROR "failing points: exit ${rc}, expected a failure\n${o}")
endif()
expect("${o}" "4 of 9 points failed \\(status ERROR[^\n]*\n  at a=0\\.25: Simulation failed" "failed points")
file(STRINGS ${WORK}/fail.csv rows)
list(GET rows 9 last)
expect("${last}" "^1,ERROR,,,,,,$" "failed row")

# 3. a rank that cannot start (its model is missing): the job ends with its error, no rank left waiting
run(o rc ${MPIRUN} ${DYNLIB} sweep blowup.toml --param a=-1:0:20 --T 5 --dt 0.01 --out ${WORK}/rank.csv
  : -np 1 ${DYNLIB} sweep no_such_model.toml --param a=-1:0:20 --T 5 --dt 0.01 --out ${WORK}/rank.csv)
if(rc EQUAL 0 OR rc MATCHES "timeout")
  message(FATAL_ERROR "failing rank: exit ${rc}, expected a failure\n${o}")
endif()
expect("${o}" "dynlib sweep: rank 3 of 4: Model not found: no_such_model\\.toml" "failing rank")

# 4. a sweep killed (SIGKILL) in one process continues under mpirun: the bytes of an uninterrupted run
string(REPLACE ";" " " MPIRUN_SH "${MPIRUN}")
set(slow builtin://map/logistic --param r=3:4:90 --N 100000 --block 3 --checkpoint 0 --quiet --out ${WORK}/slow.csv)
string(REPLACE ";" " " slow_args "${slow}")
run(o rc ${DYNLIB} sweep ${slow} --out ${WORK}/slow-ref.csv)
execute_process(COMMAND sh -c "'${DYNLIB}' sweep ${slow_args} --threads 1 & pid=$!
  while [ \"$(wc -l < '${WORK}/slow.csv.partial.idx' 2>/dev/null || echo 0)\" -lt 3 ]; do
    kill -0 $pid 2>/dev/null || exit 3; sleep 0.02; done
  kill -KILL $pid; wait $pid; echo killed=$?" WORKING_DIRECTORY ${DATA} OUTPUT_VARIABLE o TIMEOUT 40)
expect("${o}" "killed=137" "the sweep was killed")
run(o rc ${MPIRUN} ${DYNLIB} sweep ${slow})
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "resumed under mpirun: exit ${rc}\n${o}")
endif()
expect("${o}" "90 points \\(90 x 1\\), [1-9][0-9]* done before on 3 processes" "resumed summary")
expect_same(slow.csv slow-ref.csv "resumed under mpirun")

# 5. an output rank 0 cannot write: every rank ends, with rank 0's reason
run(o rc ${MPIRUN} ${DYNLIB} sweep builtin://map/logistic --param r=1:2:5 --N 10 --out ${WORK}/no/such/dir/x.csv)
if(rc EQUAL 0 OR rc MATCHES "timeout")
  message(FATAL_ERROR "unwritable output: exit ${rc}, expected a failure\n${o}")
endif()
expect("${o}" "rank 0 of 3: --out '[^']*/no/such/dir/x\\.csv': directory '[^']*/no/such/dir': No such file or directory"
  "unwritable output")

# 6. a file another sweep is writing (held with SIGSTOP meanwhile): rank 0 refuses it, every rank ends, and
#    the other sweep's file comes out as if nothing had happened
file(REMOVE ${WORK}/slow.csv)
execute_process(COMMAND sh -c "'${DYNLIB}' sweep ${slow_args} --threads 1 & pid=$!
  while [ \"$(wc -l < '${WORK}/slow.csv.partial.idx' 2>/dev/null || echo 0)\" -lt 3 ]; do
    kill -0 $pid 2>/dev/null || exit 3; sleep 0.02; done
  kill -STOP $pid; echo first=$pid
  timeout 40 ${MPIRUN_SH} '${DYNLIB}' sweep ${slow_args} 2>&1; echo mpirun=$?
  kill -CONT $pid; wait $pid; echo first_rc=$?" WORKING_DIRECTORY ${DATA} OUTPUT_VARIABLE o TIMEOUT 80)
string(REGEX MATCH "first=([0-9]+)" _ "${o}")
expect("${o}" "'[^']*/slow\\.csv' is being written by another sweep \\(process ${CMAKE_MATCH_1} on [^,]+, which holds '[^']*/slow\\.csv\\.partial\\.lock'\\)"
  "second sweep under mpirun")
expect("${o}" "mpirun=[1-9][0-9]*\n" "mpirun of a file in use: a non-zero exit")
expect("${o}" "first_rc=0" "the first sweep completed")
expect_same(slow.csv slow-ref.csv "the first sweep, after an mpirun tried its file")
